"""API plumbing every endpoint shares: the error format (`errors`), the permission class
(`permissions`), the read-only base viewset with history and signatures (`viewsets`), and the
shapes common to all records (`serializers`)."""
