"""`iree-matrix search-recipes`: the export-recipe search (tasks/recipe_search.py runs it)."""

from __future__ import annotations

import argparse
import sys

from iree_matrix.commands.base import model_reference
from iree_matrix.commands.options import RECIPE_BATCHES, RECIPES, add_matrix_options, globs, plan_settings
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.tasks import recipe_search

NAME = "search-recipes"
HELP = "export-recipe search: attention, cache update, strict export, importer; each checked against torch"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "export-recipes.toml")
    RECIPES.add(parser, help=RECIPES.help.format(choices=", ".join(recipes.ORDER)))
    RECIPE_BATCHES.add(parser)


def main(args: argparse.Namespace) -> int:
    plan = plan_settings(args)
    plan = plan.with_models(model_reference(m) for m in plan.models)  # a printed name, or FILE:FACTORY
    return recipe_search.run(plan, globs(RECIPES.of(args)), RECIPE_BATCHES.of(args) or 2, sys.stdout)
