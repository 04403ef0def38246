"""The staff's live pages: pages that show what is going on at a staff member's restaurants and update as it
happens: here the calls, the list at /staff/calls/ and one call's page (its record, and Listen in). The kitchen
board (orders/: /staff/orders/) and the reservation book's day view (reservations/: /staff/reservations/) are pages
of the same kind.

One mechanism (DESIGN.md): the writer publishes a small event to the channel-layer group of the restaurant, a thin
consumer forwards it, the page re-renders a row. Events are built once per kind.

- live.py: what every live page shares. Topic (a group per restaurant, "<topic>.<restaurant id>", and `publish`
  to it), Feed (what a page implements: its rows as events, read from the database), LiveConsumer (the thin
  websocket consumer: staff only, joins the groups of the user's restaurants, sends the feed's snapshot, relays
  what is published for those restaurants, polls the feed when the channel layer does not cross processes) and
  NoSuchSocket for any other path.
- events.py: the calls' topic, CALLS ("calls.<restaurant id>"), and one builder per event kind: call_event,
  message_event, tool_call_event, facts_event. The writer (dispatch.services) publishes them; the feed sends them.
- feed.py: the calls' rows: which calls a staff member sees (calls_of, staff_calls; the pages read them too) and
  CallsFeed (a connection's snapshot and changes, and the events a call's page wants).
- routing.py: the calls' websocket routes, listed in config/routing.py (settings.WEBSOCKET_URLCONF, which
  config/asgi.py serves as Django serves ROOT_URLCONF) with every other app's.
- views.py, urls.py: the pages under /staff/ (config/urls.py includes them), and the Listen in token.
Outside the package, where Django looks for them: templates/staff/, static/js/staff_*.js (staff_live.js's
connectLive opens any live page's websocket and reopens it when it drops), and the templates' `duration` filter in
dispatch/templatetags/staff_calls.py: Django loads tag libraries only from the `templatetags` package of an
installed app, and dispatch.staff is a package of the dispatch app, not an app of its own.

How a new live page plugs in (as the kitchen board did: orders/events.py, orders/feed.py, orders/routing.py;
nothing of the above is written again):
1. Its event kinds, in its own events module: `ORDERS = Topic("orders")`, and one builder per kind, e.g.
   `order_event(order) -> {"kind": "order", "order": {...}}`. Its writer, the ORM code that changes an order,
   publishes after the write: `ORDERS.publish(order.restaurant_id, order_event(order))`.
2. Its rows: a Feed subclass, with the same builders: `open(restaurants, query)` (the feed of a connection by
   staff of those restaurants, or None to refuse it), `snapshot()` (what the page shows, as events), `changes()`
   (what the database holds that was not sent: what another process wrote, when the channel layer is the
   in-memory one) and, when the page shows only some of its topic's events, `wants(event)`.
3. Its route, in its app's routing module, listed in config/routing.py ahead of the catch-all:
   `path("ws/staff/orders/", LiveConsumer.as_asgi(topic=ORDERS, feed_class=OrdersFeed))`; its page opens it with
   connectLive and re-renders a row per event.
dispatch never imports orders: its pages import dispatch.staff.live, and config/routing.py lists each app's routes
(as config/urls.py includes each app's urls).
"""
