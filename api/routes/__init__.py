"""One router per resource; each route states the roles it admits."""
