"""Kubernetes (K3s): pure computations on API objects (metrics), and the cluster behind ``k3s_cluster``."""
