"""The API of the operator: pydantic models of the CRDs (`v1alpha1`) and the generator of the manifests."""
