"""Mutation testing of the safety-critical code: does the suite notice a plausible bug?

`invoke mutate` runs mutmut over the listed Python modules and Stryker over the Worker, one module
at a time, each against only the tests that cover it; then scores each module, counting only the
mutants not listed as equivalent (a change that cannot alter behaviour) in
tests/mutation/equivalents.yaml. Not part of `invoke test`: a full run takes hours, not minutes.
"""
