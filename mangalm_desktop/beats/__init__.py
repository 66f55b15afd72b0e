"""Beats (routes): which stores an agent visits on which weekdays, in what order (issue 19).

Qt-free services over ``db.models.Beat`` / ``BeatStore``; the GUI and the CLI are two faces over
:mod:`.service`. Managers create and assign beats; agents read their own ("today's beat").
"""
