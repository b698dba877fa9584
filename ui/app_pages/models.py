from ui.views import models

models.render()
