"""What runs beside the site, never inside it: `make serve`'s launcher (tools.serve),
`make test-postgres`'s service probe (tools.services) and the demo data of `make bench`
(tools.demo, a Django app installed in development, test and benchmark settings only)."""
