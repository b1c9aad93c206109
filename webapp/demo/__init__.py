"""Demo data for screenshots, ``make run`` demos and the console benchmark (``flask seed-demo``)."""
