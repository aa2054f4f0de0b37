"""Files: atomic writes, array and image readers, figures saved without pyplot.

Private to the package; the command line and the experiment write through it.
"""
