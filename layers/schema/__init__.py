"""Layer definitions: loading, validating features, filter expressions."""
