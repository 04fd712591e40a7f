"""What `iree-matrix advise` does to make the answer a user acts on: what it times (advise_plan), its
sittings (paired_rounds, advise_sitting, gpu_sitting), each pick's proof, its answer, and sittings from
other machines (received_sittings). The command itself is tasks/advise.py, which orders these steps."""
