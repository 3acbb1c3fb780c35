"""The benchmarks behind `ledger bench`: commands that print and save figures, and the input
generators (hostile inputs) that the fuzz benchmark and the tests share. Its own distribution,
kept out of the runtime wheel."""
