"""Every sentence and number format qrbench shows, for the screen and the exports alike.

The analysis returns data (numbers, enums, labels); these modules phrase it, so that
the Rich console (`report.console`) and the files (`report.export`) say the same thing
in the same words. They import neither Rich nor Typer and print nothing.
"""
