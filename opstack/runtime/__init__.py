"""The controller runtime: a Python counterpart of client-go and controller-runtime."""
