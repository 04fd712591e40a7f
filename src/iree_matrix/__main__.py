from iree_matrix.cli import entry

entry()
