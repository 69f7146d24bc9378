"""What the tests share besides fixtures: invoice bodies, the command line in a child process, the
reference platform's own records, PDFs read back, bulk stores. Imported by tests and conftest files
alike; conftest files hold fixtures only."""
