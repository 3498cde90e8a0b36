"""Build the catalog data from ../shared: seed parsing, spec flattening, overrides, checks.

Only `python manage.py klaviyo_codegen` and the tests import this package; the running app reads
the generated `catalog/data/*.json` and never needs ../shared.
"""
