"""python -m minitorch_cnn.train"""
import sys

from .cli import main

sys.exit(main())
