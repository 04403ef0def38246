"""The staff's live pages: the list of calls and one call's page, under /staff/ and /ws/staff/."""
