"""What `iree-matrix advise` does to make the answer a user acts on, one per function and CPU or GPU identity:
what it times (advise_plan), its sittings (paired_rounds: the rounds themselves; advise_sitting: a CPU's arms;
gpu_sitting: a run bundle's GPU sittings), each pick's proof (advise_proof), what it says and keeps around its
sitting (advise_answer) and the sittings that arrive from other machines (received_sittings). The document a
sitting keeps is read back in findings/ (advice, gpu_advice, arms, kernel_trials, neighbourhood, gap), which
the answers' readers below this layer use too. The command itself is tasks/advise.py, which only orders these
steps and builds what they time."""
