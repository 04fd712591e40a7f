"""The `fx` route of an export recipe (export_recipe.py): ``torch.export.export``, torch's own
decompositions, then IREE's ``fx_importer``. Runs inside an exporter environment (Python 3.9 syntax;
the stdlib, torch and the compiler package's importer).

Two decomposition tables, both torch's own, never written here:

``decompose``  torch's core ATen table (``ExportedProgram.run_decompositions()``), plus torch's own
               decomposition of each op that table keeps but IREE's torch lowering has no pattern
               for (``aten.squeeze.dims``, which the core table leaves after it writes ``aten.lstm``
               out of its gates; an eval BatchNorm's ``_native_batch_norm_legit_no_training``);
``gaps``       only the ops IREE's torch lowering lacks (``GAP_OPS``: the recurrent ops and their
               cells, weight norm, ``aten.diff``, ``aten.squeeze.dims``, an eval BatchNorm's
               ``_native_batch_norm_legit_no_training``, ``F.interpolate``'s ``upsample_*2d`` (``RESIZE``,
               in ``decompose``'s table too) and the ``_unsafe_index`` its decomposition gives, as
               turbine's ``aot.export`` decomposes them), each by torch's own
               decomposition, every other op left as exported (SDPA stays SDPA).

``rewrite`` adds the tool's own rewrites (export_rewrites.py) to either table (to ``gaps``' when alone).

The importer's ``import_frozen_program`` freezes parameters and lifted constants, but not buffers
where the program has a ``constants`` table (every torch from 2.3): a model with a buffer (Qwen2's
rotary ``inv_freq``) came out with the buffer as a second argument of ``main``, and IREE's run said
"expected 2 arguments but passed 1" of an export the harness had made wrong. ``freeze_buffers``
replaces each buffer by its value first; ``check_arguments`` then holds the function's arguments to
the inputs the model is called with, so that a mismatch is the harness's failure, said at export,
never a run failure blamed on IREE.
"""

from __future__ import annotations

import export_rewrites  # here, before the model's folder is on the path (export_model.import_model)
import mlir_where

# F.interpolate (`upsample_*2d.vec`, which torch's core table keeps): IREE's import leaves its float
# scales unlowered (`torch.constant.float`), and its `.default` form with align_corners=True too
# (`torch.constant.bool`); torch's own decomposition into index ops (turbine's aot.export applies
# it) compiles and matches torch.
RESIZE = (
    "upsample_bilinear2d.vec", "upsample_nearest2d.vec", "upsample_bilinear2d.default",
    "upsample_nearest2d.default", "_unsafe_index.Tensor",
)  # fmt: skip

# Ops IREE's torch lowering (torch-mlir in iree-base-compiler 3.9.0-3.13.0) has no pattern for, as
# `torch.operator "torch.aten.NAME"` that fails to legalize; each has a decomposition in torch.
GAP_OPS = (
    "lstm.input", "lstm.data", "gru.input", "gru.data", "rnn_tanh.input", "rnn_tanh.data",
    "rnn_relu.input", "rnn_relu.data", "lstm_cell.default", "gru_cell.default",
    "rnn_tanh_cell.default", "rnn_relu_cell.default", "_weight_norm.default",
    "_weight_norm_interface.default", "diff.default", "squeeze.dims",
    "_native_batch_norm_legit_no_training.default", "_native_batch_norm_legit.default",
    *RESIZE,
)  # fmt: skip


# Ops the core table keeps (they are core ATen) that IREE's lowering lacks: decomposed after it. An
# eval BatchNorm is `_native_batch_norm_legit_no_training` after any decomposition table, and IREE
# lowers only `aten.batch_norm`: without its own decomposition (a subtraction, a multiplication by
# rsqrt(var + eps), the affine), every model with a BatchNorm failed both tables' recipes. torch's
# decomposition of it calls `_native_batch_norm_legit`, which is not functional: decomposed too.
BATCH_NORM = ("_native_batch_norm_legit_no_training.default", "_native_batch_norm_legit.default")
AFTER_CORE = ("squeeze.dims", *BATCH_NORM, *RESIZE)


MADE = []  # the program the recipe's tables made, as a module torch runs (`export`)
NODES = []  # the torch module of each call node of the program imported (`export`), in graph order


class HarnessError(Exception):
    """The harness's own export is wrong (not the model's, not IREE's): export_model.py writes it as
    its own phase (`harness`), which the export stage records as iree-matrix's failure."""

    harness = True


def _ops(names):
    import torch

    found = []
    for name in names:
        packet, _, overload = name.partition(".")
        op = getattr(getattr(torch.ops.aten, packet, None), overload, None)
        if op is not None:  # an older torch without the overload: nothing to decompose
            found.append(op)
    return found


def gap_table(names=GAP_OPS):
    """torch's own decompositions of `names`: the core table's entry where it has one (the CIA ops:
    the cells, weight norm, diff), else torch._decomp's registered one."""
    from torch._decomp import core_aten_decompositions, get_decompositions

    core = core_aten_decompositions()
    table = {}
    for op in _ops(names):
        if op in core:
            table[op] = core[op]
        else:
            table.update(get_decompositions([op]))
    return table


def decomposition_table(kind):
    """The table `run_decompositions` gets for a recipe's `kind` ("decompose" or "gaps")."""
    if kind == "gaps":
        return gap_table()
    from torch._decomp import core_aten_decompositions

    table = core_aten_decompositions()
    for op, fn in gap_table(AFTER_CORE).items():
        table[op] = fn
    return table


def freeze_buffers(program):
    """Each buffer's placeholder replaced by its value (persistent ones from the state dict, the
    others from the program's constants), as the importer does for parameters: the exported function
    then takes the model's inputs only."""
    graph = program.graph
    placeholders = {n.name: n for n in graph.nodes if n.op == "placeholder"}
    state = program.state_dict
    constants = getattr(program, "constants", {}) or {}
    for input_name, target in program.graph_signature.inputs_to_buffers.items():
        value = state[target] if target in state else constants.get(target)
        node = placeholders.get(input_name)
        if value is None or node is None:
            continue
        node.replace_all_uses_with(value)
        graph.erase_node(node)


def _holds(arg, node):
    return isinstance(arg, (list, tuple)) and any(a is node for a in arg)


def _swap(arg, node, copy):
    if isinstance(arg, (list, tuple)):
        return type(arg)(copy if a is node else a for a in arg)
    return arg


def unlist_constants(program):
    """Each parameter, buffer or lifted constant that an op takes inside a list (`torch.einsum`'s
    operands, an index by two buffers, `torch.cat` of a parameter) taken through a copy
    (`aten.clone`) instead. The importer freezes them to tensor literals, which it cannot put in
    a list ("Heterogeneous lists are not supported: expected vtensor, got <class 'torch.nn.
    parameter.Parameter'>"): the fx routes failed at export on any model that did so, the
    harness's import, not the model's nor IREE's. A copy's argument is a lone tensor, which the
    importer turns into a literal as it does any other."""
    import torch

    graph = program.graph
    signature = program.graph_signature
    frozen = {
        *signature.inputs_to_parameters,
        *signature.inputs_to_buffers,
        *getattr(signature, "inputs_to_lifted_tensor_constants", {}),
    }
    nodes = list(graph.nodes)
    first_op = next((n for n in nodes if n.op != "placeholder"), None)
    for node in [n for n in nodes if n.op == "placeholder" and n.name in frozen]:
        users = [u for u in node.users if any(_holds(a, node) for a in (*u.args, *u.kwargs.values()))]
        if not users or first_op is None:
            continue
        with graph.inserting_before(first_op):
            copy = graph.call_function(torch.ops.aten.clone.default, (node,))
        copy.meta.update({k: v for k, v in node.meta.items() if k in ("val", "tensor_meta")})
        for user in users:
            user.args = tuple(_swap(a, node, copy) for a in user.args)
            user.kwargs = {k: _swap(v, node, copy) for k, v in user.kwargs.items()}


def main_arguments(module, func_name="main"):
    """How many arguments the imported function takes (None if there is no such function)."""
    for op in module.body.operations:
        if op.operation.name != "func.func":
            continue
        if str(op.attributes["sym_name"]).strip('"') == func_name:
            return len(op.regions[0].blocks[0].arguments)
    return None


def check_arguments(module, inputs, func_name="main"):
    taken = main_arguments(module, func_name)
    if taken is not None and taken != len(inputs):
        raise HarnessError(
            f"the fx route's export takes {taken} arguments where the model is called with "
            f"{len(inputs)} inputs (a buffer or constant left as an argument): iree-matrix's export is "
            "wrong, not IREE's answer; report it with the model"
        )


def decomposed(spec, chosen):
    """The model's program by torch.export with the recipe's `chosen` tables applied (its
    decompositions and the tool's rewrites); MADE holds it runnable where a table applied."""
    import torch

    # Under no_grad, as the reference and every timed call: with grad enabled, transformers' rotary
    # embedding (a `@torch.no_grad()` forward) is traced as the higher-order op
    # `wrap_with_set_grad_enabled`, which the importer has no import for (NotImplementedError).
    with torch.no_grad():
        program = torch.export.export(spec.module, tuple(spec.inputs), strict="nonstrict" not in chosen)
    kinds = [k for k in ("decompose", "gaps") if k in chosen] or (["gaps"] if "rewrite" in chosen else [])
    # decompose's table holds gaps' ops too: one table, the wider; the tool's rewrites over it (over
    # gaps' when alone: a rewritten model should not stop at an op torch itself decomposes)
    table = decomposition_table(kinds[0]) if kinds else {}
    if "rewrite" in chosen:
        for op, fn in export_rewrites.table().items():
            table[op] = fn
    del MADE[:]
    if table:
        program = program.run_decompositions(table)
        if "rewrite" in chosen:
            export_rewrites.fold_complex(program)
            export_rewrites.split_complex(program)
        # runnable before the importer's own changes (a frozen buffer cannot run): the recipe's
        # program, which export_recipe.py checks against eager before IREE's answer counts
        MADE.append(program.module())
    return program


def export(spec, chosen, func_name="main"):
    """The model exported by the fx route with the recipe's `chosen` choices: its MLIR module (with the
    ops' locations: str() of it is the text without them)."""
    from iree.compiler.extras.fx_importer import FxImporter

    program = decomposed(spec, chosen)
    unlist_constants(program)
    freeze_buffers(program)
    # The program imported is this one, node for node, so each op's module is its node's: a kernel
    # declared by module path (a generated spec) reaches a recipe's export too.
    try:
        NODES[:] = mlir_where.module_nodes(program)
    except Exception:  # a node's metadata torch did not fill as expected: no modules then
        del NODES[:]
    importer = FxImporter()
    importer.import_frozen_program(program, func_name=func_name)
    check_arguments(importer.module, spec.inputs, func_name)
    return importer.module
