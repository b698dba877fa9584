from ui.views import graph

graph.render()
