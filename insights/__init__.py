"""What the calls of a restaurant add up to, for its staff: /staff/insights/ (calls per day by channel, how they
went, call length, busy hours in local time, the top unanswered questions, failed calls, the orders and bookings
the agent took) and the period's calls as CSV.

Its own app because it reads three others (dispatch's calls and questions, orders, reservations) and orders and
reservations already depend on dispatch: living in dispatch/staff/ it would make dispatch depend on them back.
`stats` computes everything with database aggregates (a constant number of queries, whatever the number of calls);
`views` renders the page and streams the export; `demo` makes believable calls for the demo restaurants and the
benchmark (bench/insights.py).
"""
