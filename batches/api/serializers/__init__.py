"""API input and output shapes, one module per subdomain. Inputs are plain serializers
(types and ranges); the business rules are checked once, in the services."""
