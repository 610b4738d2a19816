"""The web page `finbot serve` shows at /: static HTML, CSS and plain JavaScript that ask POST /v1/ask.

May import fastapi/starlette only; the page talks to the API over HTTP like any other client."""
