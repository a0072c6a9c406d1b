"""python -m minitorch_cnn.summary --model digitcnn"""
import sys

from . import main

sys.exit(main())
