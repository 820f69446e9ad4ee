"""The k-nearest benchmark's model (benchmarks/knn.py)."""
