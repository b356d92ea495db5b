"""What runs beside the site, never inside it: `make run`'s and `make serve`'s launchers
(tools.run, tools.serve, and the supervision they share, tools.processes),
`make test-postgres`'s service probe (tools.services) and the demo data of `make bench`
(tools.demo, a Django app installed in development, test and benchmark settings only)."""
