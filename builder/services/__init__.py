"""Write-side functions, keyword-only and named `<noun>_<verb>`."""
