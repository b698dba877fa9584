from ui.views import chat

chat.render()
