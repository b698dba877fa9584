from ui.views import sources

sources.render()
