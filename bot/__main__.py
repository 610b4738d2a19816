from bot.interfaces.cli import cli

cli()
