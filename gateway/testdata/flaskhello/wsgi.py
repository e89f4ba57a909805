from flask import Flask

application = Flask(__name__)


@application.route("/")
def hello():
    return "Hello from Flask"


@application.route("/where")
def where():
    from flask import request
    return {"script_root": request.script_root, "path": request.path}
