"""slack/manifest.yaml asks for what the bot listens to, and points every URL at /slack/events."""

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"
SCOPE_FOR_EVENT = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
}


def test_every_event_has_its_scope_and_nothing_extra_is_asked() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert set(events) == set(SCOPE_FOR_EVENT)
    assert scopes == {SCOPE_FOR_EVENT[e] for e in events} | {"chat:write", "commands"}


def test_events_commands_and_interactivity_all_go_to_slack_events() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/finbot"  # what bot/interfaces/slack/app.py listens for (integration/test_slack.py)
    urls = [
        command["url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith("/slack/events") for url in urls)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # DMs

