"""What each configuration knob costs: the study's impact table, measured.

`qrbench explain SLOW FAST` splits the two profiles' differences into the study's knob
groups (`knobs`), runs SLOW, FAST and, per group, one profile with only that group
switched (`plan`), and attributes the time-to-QR gap to the groups (`attribution`).

The core takes data, not files, and never prints; the CLI runs the sessions and the
report (`qrbench.report.wording.explain`) phrases the result.
"""
