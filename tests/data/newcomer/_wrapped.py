"""What the newcomer's transformers models share, a sibling module as a user's model imports its own
(the tool puts the model file's folder on the path and the sandbox binds it): the library's model,
called with one tensor by keyword, as a module that returns one field of its output."""

import torch

from models.api import ModelSpec


class Output(torch.nn.Module):
    """`model(**{keyword: x}, **given).<field>`: one tensor in and one out, as the export takes it."""

    def __init__(self, model, keyword, field, **given):
        super().__init__()
        self.model = model
        self.keyword, self.field, self.given = keyword, field, given

    def forward(self, x):
        return getattr(self.model(**{self.keyword: x}, **self.given), self.field)


def wrapped(model, example, keyword, field, **given):
    """The ModelSpec of `model` (its weights drawn) so wrapped, in eval, on the `example` input."""
    return ModelSpec(Output(model.eval(), keyword, field, **given).eval(), (example,), atol=1e-4, rtol=1e-3)
