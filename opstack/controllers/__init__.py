"""One reconciler per CRD; each declares its watches and, next to its code, the RBAC rules it needs
(`opstack.controllers.rbac`)."""
