from django.apps import AppConfig


class AgentWorkerConfig(AppConfig):
    name = "agent_worker"
    verbose_name = "Voice agent worker"
