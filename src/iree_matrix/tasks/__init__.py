"""The typed functions behind the commands that run something and then render it: `advise` (its
plan, paired sitting and proof), `search`, `search-recipes`, `bundle`, `compare`, and what a plan's
run ends with (`runs.py`). Above report/ because each ends by rendering (the report, the site, a
search's table), below commands/, which only parse their arguments and call these; what they derive
from records is findings/'s, which report/ reads too."""
