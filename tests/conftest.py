import os
import sys

# tests/naive.py is imported as a plain module by every test file.
sys.path.insert(0, os.path.dirname(__file__))
