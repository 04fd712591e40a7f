"""kernel: the stage that builds a user's C kernel for one target and CPU; its code is the kernel
package's (kernel/build.py), registered here as every stage is, by its module's `STAGE`."""

from iree_matrix.kernel.build import STAGE

__all__ = ["STAGE"]
