"""Human and machine reports of a run: a rich console summary and JUnit XML."""
