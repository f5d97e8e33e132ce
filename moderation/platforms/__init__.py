"""One module per platform behind one small interface (see base.py when present).

`capabilities.py` says what each platform can and cannot do; the console offers only what
the platform supports and shows the reason when it cannot.
"""
