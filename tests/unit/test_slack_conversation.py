from bot.answering.question import MAX_QUESTION_CHARS
from bot.interfaces.slack.conversation import follow_up_question, mentions, plain_text


def test_plain_text_drops_the_bot_mention_and_unwraps_slack_markup() -> None:
    text = "<@UBOT> how does <@U123|ann> book <https://x.example/a|the T&amp;E policy> in <#C9|finance> &lt;now&gt;?"
    assert plain_text(text, "UBOT") == "how does @U123 book the T&E policy in #finance <now>?"


def test_plain_text_keeps_a_bare_link_and_names_special_mentions() -> None:
    assert plain_text("see <https://x.example/a> <!here>", "UBOT") == "see https://x.example/a @here"


def test_mentions_finds_the_user_id_only() -> None:
    assert mentions("thanks <@UBOT>", "UBOT")
    assert not mentions("thanks <@UOTHER>", "UBOT")
    assert not mentions("thanks <@UBOT>", None)


def test_a_follow_up_carries_the_previous_turn() -> None:
    assert follow_up_question([], "how is ARR calculated?") == "how is ARR calculated?"
    turns = ["how is ARR calculated?", "what about NRR?"]
    assert follow_up_question(turns, "and the formula?") == "what about NRR? and the formula?"


def test_a_long_follow_up_keeps_its_own_words_within_the_limit() -> None:
    question = follow_up_question(["x" * MAX_QUESTION_CHARS], "and for annual plans?")
    assert len(question) <= MAX_QUESTION_CHARS
    assert question.endswith("and for annual plans?")
