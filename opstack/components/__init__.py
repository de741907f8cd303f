"""Per OP Stack binary: its command line, env, ports, probes and mounts, as pure functions. No I/O."""
