"""Turning found passages into an answer: the Answerer, the Answer/Source types, composing, confidence and the
figure-for-a-period rule. May import retrieval (and what it may); never evaluation or interfaces."""
