"""Measuring answers: the golden set, the eval runner and its report. May import answering (and what it may);
never interfaces."""
