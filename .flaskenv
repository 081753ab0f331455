FLASK_APP=lms.cli:create_cli_app
