"""The ``splitpriv`` command line. rich lives here and nowhere else in the package."""
