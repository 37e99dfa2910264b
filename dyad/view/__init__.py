"""The live view: a Mesa SolaraViz page of one run, served by ``dyad view SCENARIO``.

``app.py`` is the page (as in Mesa's examples), ``panels.py`` its components (faces, the
mirror layer's rates, neuron classes over time), ``controls.py`` the model parameters shown as
controls. Needs the optional extra ``viz`` (``uv sync --extra viz``).
"""
