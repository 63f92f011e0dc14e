"""The Flask shell of hdh-transparence: factory, configuration, layout, content pages."""
