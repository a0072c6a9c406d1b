"""python -m minitorch_cnn.summary --model digitcnn"""
from . import main

main()
