"""The ways in: the CLI (and what it prints), the HTTP API and Slack. May import every other part of bot;
nothing imports them."""
